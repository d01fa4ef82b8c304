import sys

from envkit.entry import main

sys.exit(main())
