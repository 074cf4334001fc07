"""Personal data: export and deletion (maillage/privacy)."""
