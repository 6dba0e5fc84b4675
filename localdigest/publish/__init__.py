"""Files for people: summaries as JSON/Markdown, the newsletter, notes for a vault, audio.

Everything here returns text or writes files; nothing prints (the terminal is ``render``).
"""
