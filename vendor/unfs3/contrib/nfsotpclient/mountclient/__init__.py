
from . import mountconstants
from . import mounttypes
from . import mountpacker

__all__ = ['mountconstants', 'mounttypes', 'mountpacker']
