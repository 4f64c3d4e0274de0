import sys

from numerics.codegen import main

sys.exit(main())
