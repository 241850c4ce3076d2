"""The differential corpus: compose projects run through composer and Docker Compose v2."""
