#!/bin/sh
# deploy.sh REPO SHA: the script of hooks.example.yaml's deploy-main route,
# run by hookrelay's script runner on each push to main. Replace its body
# with your deployment; what it prints is kept with the task
# (hookrelay tasks show ID).
#
# It gets the push's repository and commit as arguments (never through a
# shell), the sender in $DEPLOY_SENDER, the raw payload on stdin, the whole
# normalised event in the file $HOOKRELAY_EVENT_FILE, and $HOOKRELAY_ATTEMPT
# (2 or more: an earlier run was cut short, check before acting twice).
set -eu
repo=$1 sha=$2
echo "deploying $repo at $sha (pushed by ${DEPLOY_SENDER:-someone}, attempt ${HOOKRELAY_ATTEMPT:-1})"
bytes=$(wc -c)
echo "payload: $bytes bytes; event file: ${HOOKRELAY_EVENT_FILE:-none}"
