"""The touch kiosk: browsing the menu on a tap, its painter and layout, gestures, the staff's keypad and lockdown."""
