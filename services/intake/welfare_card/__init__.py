"""The state welfare card measure (seeds 002, 003; docs/welfare_card.md): intake's side.

Areas of Thailand, participants and their imports, development projects and results, follow-up
rounds, registration places, intents (แบบย่อ) and the public self-check.
"""
