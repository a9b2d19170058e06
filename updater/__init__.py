"""The screen's software updater (runs as root): installs a verified release beside the running one, trials it, rolls back."""
