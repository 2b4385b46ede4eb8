# Two entry points: `make demo` (install, train, sample, evaluate) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch and torchvision are pinned to the pair this project is tested with.
TORCH := torch==2.14.1 torchvision==0.29.1
PACKAGES := -e 'packages/gan-core[sweep,tensorboard]' -e packages/gan-gm -e packages/gan-san -e packages/gan-sampling -e packages/gan-cluster -e packages/gan-fgan
# Inside the project's workspace, use the shared MNIST copy instead of downloading.
ifneq ($(wildcard ../shared/data/mnist),)
export GAN_DATA_DIR ?= $(abspath ../shared/data)
endif
DEMO_RUN ?= runs/vanilla
DEMO_EPOCHS ?= 5

.PHONY: install install-test demo test clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q $(TORCH) $(PACKAGES)

install-test: install
	$(BIN)/pip install -q pytest scipy "setuptools>=68"

demo: install
	rm -rf $(DEMO_RUN) samples/vanilla samples/vanilla.png
	$(BIN)/gan train --prior normal --loss vanilla --arch mlp --dataset mnist --epochs $(DEMO_EPOCHS) --batch-size 64 --seed 0 --out $(DEMO_RUN)
	$(BIN)/gan sample $(DEMO_RUN) --n 10000 --out samples/vanilla --grid samples/vanilla.png
	$(BIN)/gan eval $(DEMO_RUN)

test: install-test
	$(BIN)/python -m pytest -q
