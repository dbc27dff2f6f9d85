"""The OpenAI Responses API: its objects and events, and its translation to and from Chat
Completions, the hub through which it reaches every other upstream kind."""
