#!/usr/bin/env bash
# Creates the AuditAgent app registration with exactly the permissions `auditagent consent` lists,
# grants admin consent, and writes a client secret to a file readable only by you.
# Needs the Azure CLI, signed in (`az login`) as an administrator who may grant consent.
#
#   deploy/scripts/create-app-registration.sh [--name AuditAgent] [--no-send] [--time-zones] [--secret-file ./client-secret]
#   --time-zones adds the optional MailboxSettings.Read (mail in each recipient's own time zone).
set -euo pipefail

name="AuditAgent"
send=true
zones=false
secret_file="./client-secret"
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --no-send) send=false; shift ;;
    --time-zones) zones=true; shift ;;
    --secret-file) secret_file="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

graph="00000003-0000-0000-c000-000000000000"
roles=("Mail.ReadBasic.All" "User.Read.All" "Domain.Read.All")
if [ "$send" = true ]; then roles+=("Mail.Send"); fi
if [ "$zones" = true ]; then roles+=("MailboxSettings.Read"); fi

app_id=$(az ad app create --display-name "$name" --sign-in-audience AzureADMyOrg --query appId -o tsv)
echo "Application (client) id: $app_id"

for role in "${roles[@]}"; do
  # Look the role's id up by name rather than trusting a copied GUID.
  role_id=$(az ad sp show --id "$graph" --query "appRoles[?value=='$role'].id | [0]" -o tsv)
  az ad app permission add --id "$app_id" --api "$graph" --api-permissions "$role_id=Role" --only-show-errors
  echo "Requested $role"
done

az ad sp create --id "$app_id" --only-show-errors >/dev/null
# Consent needs the service principal to exist; give Entra a moment to replicate it.
sleep 20
az ad app permission admin-consent --id "$app_id"
echo "Admin consent granted."

umask 077
az ad app credential reset --id "$app_id" --display-name "auditagent" --years 1 --query password -o tsv > "$secret_file"
echo "Client secret written to $secret_file (readable by you only). It expires in one year."
echo "Tenant id: $(az account show --query tenantId -o tsv)"
echo "Next: put the ids in appsettings.json, AUDITAGENT__GRAPH__CLIENTSECRETFILE=$secret_file, then run: auditagent doctor"
