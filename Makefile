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
DEMO_RUN ?= runs/demo
DEMO_EPOCHS ?= 5
# The leaderboard's lowest mean FID at this budget (docs/results.md, 5 mlp epochs, 3 seeds): a learned
# Gaussian-mixture prior with SAN's loss, FID 12.9 +- 1.6 against vanilla's 34.5 +- 7.7 (half the 95 %
# intervals), level with wgan-gp and SAN alone. No post-hoc sampler: none changes FID or precision
# beyond the noise at this budget once corrected for the table's family (the claims table).
DEMO_TRAIN := --prior gm-dynamic --loss san --arch mlp --dataset mnist --batch-size 64 --holdout 0.1 --seed 0 \
	--eval-every 1 --eval-n 2000
# vanilla's 3 leaderboard runs at the same budget (their records are committed; no weights needed)
VANILLA_RUNS := benchmarks/results/leaderboard/trials/prior=normal,seed=0 \
	benchmarks/results/leaderboard/trials/prior=normal,seed=1 \
	benchmarks/results/leaderboard/trials/prior=normal,seed=2

.PHONY: install install-test demo test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q $(TORCH) $(PACKAGES)

install-test: install
	$(BIN)/pip install -q pytest scipy "setuptools>=68"

demo: install
	rm -rf $(DEMO_RUN) samples/demo samples/demo.png reports/demo
	$(BIN)/gan train $(DEMO_TRAIN) --epochs $(DEMO_EPOCHS) --out $(DEMO_RUN)
	$(BIN)/gan sample $(DEMO_RUN) --n 10000 --out samples/demo --grid samples/demo.png
	$(BIN)/gan eval $(DEMO_RUN)
	$(BIN)/gan compare $(DEMO_RUN) $(VANILLA_RUNS)
	$(BIN)/gan report $(DEMO_RUN) $(VANILLA_RUNS) --out reports/demo
	@echo "Report: reports/demo/index.html"

test: install-test
	$(BIN)/python -m pytest -q
