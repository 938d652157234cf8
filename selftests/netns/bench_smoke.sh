#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the data-plane benchmark (make check): the smallest policy,
# one short round of every measure in every configuration. It fails when
# the benchmark machinery is broken (a measure that sees no traffic, a
# filter that does not load, counters that show the measured rules were
# not hit); it asserts no speed.
exec bash "$(dirname "$0")/../bench/dataplane.sh" --sizes 10 --reps 1 --secs 0.5 --topos wg
