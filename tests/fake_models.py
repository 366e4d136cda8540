"""Scripted chat models for tests of the model-backed agents, and helpers to read their prompts."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage

DATA_BLOCK = re.compile(r"<client_data>\n(.*?)\n</client_data>", re.S)


class ScriptedChatModel(FakeMessagesListChatModel):
    """A fake chat model whose answer is computed from the messages it gets.

    `script(agent, messages)` returns an AIMessage. Tool binding keeps the same model, so tool
    calls and structured output (LangChain's tool-calling fallback) both come from the script.
    """

    agent: str = ""
    script: Any = None

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        from langchain_core.outputs import ChatGeneration, ChatResult

        reply = self.script(self.agent, messages)
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def bind_tools(self, tools, **kwargs):
        return self


def tool_reply(name: str, args: dict, input_tokens: int = 100, output_tokens: int = 20) -> AIMessage:
    """An AIMessage that calls `name` with `args`, with usage as an endpoint would report it."""
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": f"call_{name}_{len(json.dumps(args))}"}],
        usage_metadata={"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens},
    )


def client_data(messages: list) -> dict:
    """The JSON of the <client_data> block in the first user message of a conversation."""
    for message in messages:
        content = message["content"] if isinstance(message, dict) else message.content
        if isinstance(content, str):
            found = DATA_BLOCK.search(content)
            if found:
                return json.loads(found.group(1))
    raise AssertionError("no <client_data> block in the messages")


def factory(script: Callable[[str, list], AIMessage], seen: list) -> Callable:
    """A model factory for `agents.llm.set_model_factory`; `seen` collects (agent, messages)."""
    def recorded(agent: str, messages: list) -> AIMessage:
        seen.append((agent, list(messages)))
        return script(agent, messages)

    def build(settings, agent: str) -> ScriptedChatModel:
        return ScriptedChatModel(responses=[], agent=agent, script=recorded)

    return build
