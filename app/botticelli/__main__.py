import sys

from botticelli.cli import main

sys.exit(main())
