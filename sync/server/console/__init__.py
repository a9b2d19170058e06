"""The staff web console at /console/: Vietnamese first, server-rendered pages over the server's own checks.

    passwords.py   argon2id hashes, set-password links, the lock-out rule (pure)
    sessions.py    session cookies, CSRF tokens, idle and absolute limits (pure)
    records.py     the console's rows: passwords, sessions, drafts, profiles, media facts, screen errors, days
    guard.py       who is asking (cookie), CSRF and Origin on every POST, roles; page rendering
    texts.py       the console's words in Vietnamese and English
    yamledit.py    round-trip YAML edits (ruamel.yaml): unedited files save byte-identical
    drafts.py      a draft per channel and staff member, its checks and conflicts
    views.py       pure view-models: item forms, problems beside fields, publish summary
    planning.py    pure view-models: the schedule timeline, the translation board, Khmer break marks
    logview.py     pure view-model of the audit log: local times, details as words
    preview.py     the render worker (one spawned process running the player's renderer) and its guard
    worker.py      that process: `python -m sync.server.console.worker`
    uploads.py     chunked, resumable media uploads hashed on arrival
    routes_*.py    the pages, one small router each

The server never holds a private key: manifests and notices are signed in the browser
(WebCrypto Ed25519) and posted through the same checks as the API's.
"""
