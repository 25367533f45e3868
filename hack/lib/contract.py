"""What cleave's C and Swift sides agree on, read from the one header that defines it
(Sources/CCleaveContract/include/cleave_contract.h), for the Python tools under hack/."""
import os
import re

_HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "Sources", "CCleaveContract", "include", "cleave_contract.h")


def define(name):
    """The string value of `#define NAME "value"` in the contract header."""
    with open(_HEADER) as f:
        m = re.search(r'^#define %s "([^"]*)"$' % re.escape(name), f.read(), re.M)
    if not m:
        raise KeyError(name)
    return m.group(1)


HELPER_PREFIX = define("CLEAVE_HELPER_NAME_PREFIX")
KEEPER_NAME = define("CLEAVE_EXIT_KEEPER_NAME")
