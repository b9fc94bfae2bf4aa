"""The subscriptions wing: double opt-in sign-up, confirm, unsubscribe and preferences; lists; proof of consent."""
