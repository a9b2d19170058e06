"""The central server for staff (FastAPI on uvicorn, SQLite): publish API, long-poll, fleet status, proof of play, notices.

Installed with the `server` extra (`pip install -e '.[server]'`), so screens never carry it.
"""
