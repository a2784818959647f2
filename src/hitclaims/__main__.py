"""python -m hitclaims"""

from hitclaims.cli import main

main()
