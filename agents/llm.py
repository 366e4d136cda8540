"""The chat model behind the agents, its settings, and the token and cost counter.

With `ONBOARD_MODEL` unset no model is built and every agent keeps its offline strategy.
Any OpenAI-compatible chat endpoint works: `OPENAI_BASE_URL` points `langchain_openai.ChatOpenAI`
at it, and `OPENAI_API_KEY` is the library's own key setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import LLMResult

AGENTS = ("analyst", "coder", "reviewer", "integrator")


class ModelSettingsError(ValueError):
    """A model setting is invalid; the message names the variable and what to set."""


@dataclass(frozen=True)
class ModelSettings:
    model: str | None
    api_key: str | None
    base_url: str | None
    temperature: float
    timeout_s: float
    max_retries: int
    price_per_1k_input: Decimal
    price_per_1k_output: Decimal
    spec_attempts: int
    streaming: bool

    @property
    def configured(self) -> bool:
        return bool(self.model)


def _number(name: str, default: str, kind: Callable[[str], Any]) -> Any:
    text = os.environ.get(name, default).strip()
    try:
        return kind(text)
    except (ValueError, InvalidOperation):
        raise ModelSettingsError(f"{name}={text!r} is not a valid number; unset it or set a number such as {default}") from None


def model_settings() -> ModelSettings:
    """Read the model settings from the environment, on every call, so tests and evals can switch."""
    return ModelSettings(
        model=os.environ.get("ONBOARD_MODEL", "").strip() or None,
        api_key=os.environ.get("OPENAI_API_KEY") or None,
        base_url=os.environ.get("OPENAI_BASE_URL") or None,
        temperature=_number("ONBOARD_MODEL_TEMPERATURE", "0", float),
        timeout_s=_number("ONBOARD_MODEL_TIMEOUT_S", "60", float),
        max_retries=_number("ONBOARD_MODEL_MAX_RETRIES", "2", int),
        price_per_1k_input=_number("ONBOARD_MODEL_PRICE_PER_1K_INPUT", "0", Decimal),
        price_per_1k_output=_number("ONBOARD_MODEL_PRICE_PER_1K_OUTPUT", "0", Decimal),
        spec_attempts=max(1, _number("ONBOARD_MODEL_SPEC_ATTEMPTS", "2", int)),
        streaming=os.environ.get("ONBOARD_MODEL_STREAMING", "false").lower() in ("1", "true", "yes"),
    )


# Tests replace the factory with one that returns a scripted fake chat model.
_factory: Callable[[ModelSettings, str], BaseChatModel] | None = None


def set_model_factory(factory: Callable[[ModelSettings, str], BaseChatModel] | None) -> None:
    """Build models with `factory(settings, agent)` instead of ChatOpenAI; None restores ChatOpenAI."""
    global _factory
    _factory = factory


def chat_model(agent: str, settings: ModelSettings | None = None) -> BaseChatModel | None:
    """Return the chat model for `agent`, or None when no model is configured."""
    settings = settings or model_settings()
    if not settings.configured:
        return None
    if _factory is not None:
        return _factory(settings, agent)
    from langchain_openai import ChatOpenAI

    api_key = settings.api_key
    if api_key is None:
        if settings.base_url is None:
            raise ModelSettingsError("ONBOARD_MODEL is set but OPENAI_API_KEY is not; set the key, or OPENAI_BASE_URL for a local endpoint that needs none")
        # A local OpenAI-compatible server (vLLM, Ollama, llama.cpp) accepts any key.
        api_key = "not-needed"
    return ChatOpenAI(
        model=settings.model,
        api_key=api_key,
        base_url=settings.base_url,
        temperature=settings.temperature,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        streaming=settings.streaming,
        # Ask for usage on streamed answers too; the counter reads it from usage_metadata.
        stream_usage=True,
    )


def _empty() -> dict:
    return {"requests": 0, "input_tokens": 0, "output_tokens": 0, "cost": "0"}


def cost(input_tokens: int, output_tokens: int, settings: ModelSettings) -> Decimal:
    return (Decimal(input_tokens) * settings.price_per_1k_input + Decimal(output_tokens) * settings.price_per_1k_output) / Decimal(1000)


class UsageCounter(BaseCallbackHandler):
    """Count requests and the tokens the endpoint reports (`usage_metadata`) for one agent."""

    def __init__(self, agent: str, settings: ModelSettings | None = None):
        self.agent = agent
        self.settings = settings or model_settings()
        self.requests = 0
        self.input_tokens = 0
        self.output_tokens = 0

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.requests += 1
        for generations in response.generations:
            for generation in generations:
                usage = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
                self.input_tokens += int(usage.get("input_tokens", 0))
                self.output_tokens += int(usage.get("output_tokens", 0))

    def usage(self) -> dict:
        """Return the counts as a `model_usage` state update, {agent: {...}}, or {} when nothing was sent."""
        if not self.requests:
            return {}
        return {self.agent: {
            "requests": self.requests, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "cost": str(cost(self.input_tokens, self.output_tokens, self.settings)),
        }}


def add_usage(current: dict | None, update: dict | None) -> dict:
    """Reducer of the `model_usage` state key: add per-agent counts, costs as exact decimals."""
    merged = {agent: dict(counts) for agent, counts in (current or {}).items()}
    for agent, counts in (update or {}).items():
        row = merged.setdefault(agent, _empty())
        for key in ("requests", "input_tokens", "output_tokens"):
            row[key] = int(row[key]) + int(counts.get(key, 0))
        row["cost"] = str(Decimal(row["cost"]) + Decimal(counts.get("cost", "0")))
    return merged


def usage_total(usage: dict | None) -> dict:
    """Sum a run's per-agent usage into one row with the same keys."""
    total = _empty()
    for counts in (usage or {}).values():
        total = add_usage({"total": total}, {"total": counts})["total"]
    total["total_tokens"] = total["input_tokens"] + total["output_tokens"]
    return total
