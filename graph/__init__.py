"""The LangGraph state graph: analyst, coder, reviewer, approval, execute, integrator."""
