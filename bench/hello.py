"""The smallest Flask app: the ceiling that bench/load.py compares the real pages with."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hallo"
