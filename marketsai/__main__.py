"""``python -m marketsai``: the command line, for environments where the ``marketsai``
script is not on ``PATH`` (a plug-in's folder on ``PYTHONPATH``, a notebook's kernel)."""

from marketsai.cli import main

if __name__ == "__main__":
    main()
