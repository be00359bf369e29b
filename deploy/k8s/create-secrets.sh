#!/usr/bin/env bash
# Creates the Secrets tongban reads, with random values, in a namespace; a
# Secret that exists already is left as it is (pii-key above all: changing it
# makes the stored ID numbers unreadable).
#
#   deploy/k8s/create-secrets.sh NAMESPACE [DEPARTMENT_CODE ...]
#
# With department codes (js-ga ...) it also creates each department workflow
# instance's database Secret, tongban-workflow-<code>-db. EMS_API_KEY,
# DATA_EXCHANGE_API_KEY, PAYMENT_API_KEY and SMS_API_KEY are placeholders until
# EMS, the data exchange platform, the payment platform and the SMS gateway
# issue keys (the dev overlay's simulators
# accept them as they are): replace them with
# kubectl -n NAMESPACE patch secret tongban-secrets ... (see README.md)
# Needs kubectl (pointed at the cluster) and python3.
set -euo pipefail

ns=${1:?usage: $0 NAMESPACE [DEPARTMENT_CODE ...]}
shift

random() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }

exists() { kubectl -n "$ns" get secret "$1" >/dev/null 2>&1; }

# A key of an existing Secret, or a new random value.
value_of() {
  local secret=$1 key=$2
  if exists "$secret"; then
    kubectl -n "$ns" get secret "$secret" -o "jsonpath={.data.$key}" | base64 -d
  else
    random
  fi
}

create() {
  local name=$1
  shift
  if exists "$name"; then
    echo "kept    $name"
  else
    kubectl -n "$ns" create secret generic "$name" "$@" >/dev/null
    echo "created $name"
  fi
}

database() {
  local secret=$1 role=$2
  local password
  password=$(value_of "$secret" password)
  create "$secret" \
    --from-literal=password="$password" \
    --from-literal=url="postgresql+psycopg2://$role:$password@postgres:5432/$role"
}

broker_password=$(value_of tongban-rabbitmq password)
create tongban-rabbitmq \
  --from-literal=username=tongban \
  --from-literal=password="$broker_password" \
  --from-literal=erlang-cookie="$(random)"
create tongban-secrets \
  --from-literal=amqp-uri="pyamqp://tongban:$broker_password@rabbitmq:5672/" \
  --from-literal=pii-key="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
  --from-literal=ems-api-key=replace-with-the-key-from-ems \
  --from-literal=ems-webhook-secret="$(random)" \
  --from-literal=data-exchange-api-key=replace-with-the-key-from-the-data-exchange \
  --from-literal=payment-api-key=replace-with-the-key-from-the-payment-platform \
  --from-literal=payment-webhook-secret="$(random)" \
  --from-literal=sms-api-key=replace-with-the-key-from-the-sms-gateway
create tongban-postgres --from-literal=password="$(random)"
for service in identity catalog workflow courier ratings; do
  database "tongban-$service-db" "$service"
done
for code in "$@"; do
  database "tongban-workflow-$code-db" "workflow_${code//-/_}"
done
