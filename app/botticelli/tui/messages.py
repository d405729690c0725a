"""What the chat screen tells the rest of the app (the recording itself goes straight to the `SessionKeeper`)."""

from __future__ import annotations

from textual.message import Message

from botticelli.chat.conversation import Exchange


class PromptSent(Message):
    """A prompt went out to `exchange.profile`·`exchange.model`."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__()
        self.exchange = exchange


class AnswerFinished(Message):
    """An answer ended: complete, cancelled (partial text kept) or failed (`exchange.error`)."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__()
        self.exchange = exchange
