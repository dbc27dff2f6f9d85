"""Front-end protocols: the OpenAI and Anthropic APIs as clients see them."""
