// AuditAgent on Azure Container Apps, with everything that must survive a restart outside the container:
// findings, incidents and the mail log in Azure Database for PostgreSQL (flexible server), and the key ring
// that seals stored addresses in Key Vault, read through the app's user-assigned managed identity. A restart
// or a new revision therefore loses nothing and re-sends no mail.
//
// 1. Deploy (the password is the database administrator's; keep it in your secret store):
//      az deployment group create -g RG -f deploy/azure/containerapp.bicep \
//        -p image=REGISTRY/auditagent:TAG senderMailbox=auditagent@contoso.com digestTo=security@contoso.com \
//           postgresPassword=... [replicas=3] [exposeConsole=true]
// 2. Put the key ring into the vault before the first scan (the outputs name it):
//      auditagent keys new | az keyvault secret set --vault-name VAULT --name auditagent-key-ring --file /dev/stdin
// 3. Grant the identity the Graph application permissions (deploy/scripts/grant-managed-identity.sh with principalId).

@description('Region of the resources.')
param location string = resourceGroup().location

@description('The AuditAgent container image.')
param image string

@description('Mailbox the digest and escalations are sent from.')
param senderMailbox string

@description('Address of the security team (digest recipient and security contact).')
param digestTo string

@description('IANA time zone of the schedules.')
param timeZone string = 'UTC'

@description('Administrator password of the PostgreSQL server (the agent connects with it; it is kept as a Container Apps secret and mounted as a file).')
@secure()
param postgresPassword string

@description('Administrator login of the PostgreSQL server.')
param postgresLogin string = 'auditagent'

@description('Agents sharing the database and every scan cycle (PostgreSQL makes several possible).')
@minValue(1)
@maxValue(10)
param replicas int = 1

@description('Serve the triage console through the environment\'s HTTPS ingress (sign-in with Entra ID still needs Web:ClientId and Web:ClientSecretFile).')
param exposeConsole bool = false

@description('Name of the Key Vault secret that holds the key ring.')
param keyRingSecretName string = 'auditagent-key-ring'

var suffix = uniqueString(resourceGroup().id)
// Built-in role "Key Vault Secrets User": read secret values, nothing else.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'auditagent-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

// Created before the app so that it can read the vault from its first start.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'auditagent-id'
  location: location
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'auditagent-${suffix}'
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource readKeyRing 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: 'auditagent-${suffix}'
  location: location
  sku: { name: 'Standard_B1ms', tier: 'Burstable' }
  properties: {
    version: '16'
    administratorLogin: postgresLogin
    administratorLoginPassword: postgresPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 14, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: 'auditagent'
}

// Connections from Azure services (the Container Apps environment); use VNet integration to narrow it further.
resource allowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAzureServices'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'auditagent-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource agent 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'auditagent'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [ readKeyRing, database, allowAzure ]
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      secrets: [
        { name: 'postgres-password', value: postgresPassword }
      ]
      ingress: exposeConsole ? { external: true, targetPort: 5080, transport: 'http' } : null
    }
    template: {
      containers: [
        {
          name: 'auditagent'
          image: image
          args: [ 'run' ]
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            { name: 'AUDITAGENT__GRAPH__CREDENTIAL', value: 'ManagedIdentity' }
            { name: 'AUDITAGENT__GRAPH__MANAGEDIDENTITYCLIENTID', value: identity.properties.clientId }
            { name: 'AUDITAGENT__SCHEDULE__TIMEZONE', value: timeZone }
            { name: 'AUDITAGENT__NOTIFICATIONS__SENDERMAILBOX', value: senderMailbox }
            { name: 'AUDITAGENT__NOTIFICATIONS__DIGESTRECIPIENTS__0', value: digestTo }
            { name: 'AUDITAGENT__NOTIFICATIONS__SECURITYCONTACT', value: digestTo }
            { name: 'AUDITAGENT__STORAGE__PROVIDER', value: 'PostgreSql' }
            { name: 'AUDITAGENT__STORAGE__CONNECTIONSTRING', value: 'Host=${postgres.properties.fullyQualifiedDomainName};Database=auditagent;Username=${postgresLogin};SSL Mode=Require' }
            { name: 'AUDITAGENT__STORAGE__PASSWORDFILE', value: '/run/secrets/postgres-password' }
            { name: 'AUDITAGENT__PROTECTION__KEYVAULTURI', value: vault.properties.vaultUri }
            { name: 'AUDITAGENT__PROTECTION__KEYVAULTSECRETNAME', value: keyRingSecretName }
          ]
          // The console's health endpoints (port 5080 in the image), not a process per probe.
          probes: [
            {
              type: 'Startup'
              httpGet: { path: '/healthz', port: 5080 }
              periodSeconds: 5
              failureThreshold: 60
            }
            {
              type: 'Liveness'
              httpGet: { path: '/healthz', port: 5080 }
              periodSeconds: 30
              timeoutSeconds: 5
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: '/readyz', port: 5080 }
              periodSeconds: 60
              timeoutSeconds: 10
              failureThreshold: 2
            }
          ]
          volumeMounts: [
            { volumeName: 'secrets', mountPath: '/run/secrets' }
          ]
        }
      ]
      scale: {
        minReplicas: replicas
        maxReplicas: replicas
      }
      // Nothing the agent keeps lives in the container: the only volume holds the database password.
      volumes: [
        {
          name: 'secrets'
          storageType: 'Secret'
          secrets: [ { secretRef: 'postgres-password', path: 'postgres-password' } ]
        }
      ]
    }
  }
}

@description('Object id of the managed identity: grant it the Graph application permissions.')
output principalId string = identity.properties.principalId

@description('The Key Vault to put the key ring in (secret keyRingSecretName).')
output keyVaultName string = vault.name

@description('The PostgreSQL server (back it up with its own backups; see README, Operating AuditAgent).')
output postgresServer string = postgres.properties.fullyQualifiedDomainName
