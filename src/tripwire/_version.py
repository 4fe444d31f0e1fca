"""The single place that holds tripwire's version."""

VERSION = "0.1.0"
