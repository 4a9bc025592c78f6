"""Serving: the OpenAI-compatible gateway and the vLLM launcher."""
