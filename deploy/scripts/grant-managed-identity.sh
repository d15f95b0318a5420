#!/usr/bin/env bash
# Grants a managed identity (e.g. the Container App's, from the Bicep output principalId) the Graph
# application permissions AuditAgent needs. Managed identities have no consent screen: the app
# role assignments are made directly. Needs the Azure CLI signed in as an administrator.
#
#   deploy/scripts/grant-managed-identity.sh PRINCIPAL_OBJECT_ID [--no-send]
set -euo pipefail

principal="${1:?usage: grant-managed-identity.sh PRINCIPAL_OBJECT_ID [--no-send]}"
send=true
if [ "${2:-}" = "--no-send" ]; then send=false; fi

graph_sp=$(az ad sp show --id 00000003-0000-0000-c000-000000000000 --query id -o tsv)
roles=("Mail.ReadBasic.All" "User.Read.All" "Domain.Read.All")
if [ "$send" = true ]; then roles+=("Mail.Send"); fi

for role in "${roles[@]}"; do
  role_id=$(az ad sp show --id 00000003-0000-0000-c000-000000000000 --query "appRoles[?value=='$role'].id | [0]" -o tsv)
  az rest --method POST \
    --uri "https://graph.microsoft.com/v1.0/servicePrincipals/$principal/appRoleAssignments" \
    --body "{\"principalId\":\"$principal\",\"resourceId\":\"$graph_sp\",\"appRoleId\":\"$role_id\"}" \
    --only-show-errors >/dev/null
  echo "Granted $role"
done
