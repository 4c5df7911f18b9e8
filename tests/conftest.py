import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # tests/circuits.py
os.environ.setdefault("TQDM_DISABLE", "1")
