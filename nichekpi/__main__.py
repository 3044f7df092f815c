import sys

from nichekpi.cli import main

sys.exit(main())
