#!/bin/sh
# Checks the built Coq development (run `make` first; `make check` does both):
#  1. no Admitted, admit, Axiom, Parameter, Hypothesis, Variable or Conjecture in coq/*.v;
#  2. every theorem named in coq/index.json exists, and `Print Assumptions` lists for it only
#     the standard library's classical reals, excluded middle, functional extensionality and
#     primitive integers.
# Prints the assumptions of each theorem; exits non-zero on any failure.
set -eu
cd "$(dirname "$0")"
if grep -nwE 'Admitted|admit|Axiom|Axioms|Parameter|Parameters|Hypothesis|Hypotheses|Variable|Variables|Conjecture' coq/*.v; then
  echo "check-assumptions: the development must not assume anything" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
names=$(grep -o '"Critscale\.[A-Za-z0-9_.]*"' coq/index.json | tr -d '"' | sort -u)
modules=$(sed -n 's|^coq/\(.*\)\.v$|\1|p' _CoqProject | tr '\n' ' ')
# One Print Assumptions over a lemma that uses every theorem: the libraries are traversed once
# (each theorem separately takes seconds). `Check` fails if a name does not exist.
{
  echo "From Critscale Require Import $modules."
  for t in $names; do echo "Check $t."; done
  echo "Lemma critscale_all : True."
  echo "Proof."
  for t in $names; do echo "  pose proof $t."; done
  echo "  exact I."
  echo "Qed."
  echo "Print Assumptions critscale_all."
} > "$work/Assumptions.v"
if ! coqc -R coq Critscale "$work/Assumptions.v" > "$work/raw" 2>&1; then
  grep -v '^ ' "$work/raw" | grep -iE 'error|not found' >&2 || true
  echo "check-assumptions: coqc failed (is every theorem of coq/index.json defined?)" >&2
  exit 1
fi
sed -n '/^Axioms:$/,$p' "$work/raw" > "$work/out"
test -s "$work/out" || { echo "check-assumptions: no Print Assumptions output" >&2; exit 1; }
# Axiom names are the unindented lines of the output (their types are indented).
allowed='^(ClassicalDedekindReals\.sig_forall_dec|ClassicalDedekindReals\.sig_not_dec|Classical_Prop\.classic|FunctionalExtensionality\.functional_extensionality_dep|PrimInt63\.[A-Za-z0-9_]+|Uint63\.[A-Za-z0-9_]+)$'
grep -v '^ ' "$work/out" | grep -v '^Axioms:$' | grep -v '^Closed under the global context$' \
  | sed 's/ :.*//' | sort | uniq -c
bad=$(grep -v '^ ' "$work/out" | grep -v '^Axioms:$' | grep -v '^Closed under the global context$' \
  | sed 's/ :.*//' | sort -u | grep -vE "$allowed" || true)
if [ -n "$bad" ]; then
  echo "check-assumptions: assumptions outside the standard library's: $bad" >&2
  exit 1
fi
echo "check-assumptions: $(echo "$names" | wc -l) theorems, standard axioms only"
