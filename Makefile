PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test docs lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	-$(PY) -m pip install -q --upgrade pip  # optional: older pips work too
	$(PY) -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed  # the lecture on glassnet: text here, report.html in glassnet-demo/
	$(VENV)/bin/glassnet demo --out glassnet-demo

test: $(VENV)/.installed
	$(PY) -m pytest tests
	@echo "== the layer and model tests again, on the plain ops only =="
	GLASSNET_FAST_KERNELS=0 $(PY) -m pytest tests/layers tests/models

docs: $(VENV)/.installed  # the user documentation, as HTML
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "The documentation: docs/_build/html/index.html"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) build *.egg-info glassnet-demo docs/_build
