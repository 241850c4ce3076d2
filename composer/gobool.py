"""Go's ``strconv.ParseBool``: the words docker's flags (pflag's ``--flag=false``) and options
(``--mount bind-recursive=1``) take as a boolean; one table for the CLI and the runtime.
Imports nothing."""

from __future__ import annotations

GO_BOOLS = {**dict.fromkeys(("1", "t", "T", "true", "TRUE", "True"), True),
            **dict.fromkeys(("0", "f", "F", "false", "FALSE", "False"), False)}
