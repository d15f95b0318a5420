// AuditAgent on Azure Container Apps with a system-assigned managed identity.
// Deploy: az deployment group create -g RG -f deploy/azure/containerapp.bicep -p image=REGISTRY/auditagent:TAG senderMailbox=... digestTo=...
// Then grant the identity the Graph application permissions (deploy/scripts/grant-managed-identity.sh).

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

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'auditagent-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
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
    type: 'SystemAssigned'
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
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
            { name: 'AUDITAGENT__SCHEDULE__TIMEZONE', value: timeZone }
            { name: 'AUDITAGENT__NOTIFICATIONS__SENDERMAILBOX', value: senderMailbox }
            { name: 'AUDITAGENT__NOTIFICATIONS__DIGESTRECIPIENTS__0', value: digestTo }
            { name: 'AUDITAGENT__NOTIFICATIONS__SECURITYCONTACT', value: digestTo }
            { name: 'AUDITAGENT__STORAGE__SQLITEPATH', value: '/data/auditagent.db' }
          ]
          probes: [
            {
              type: 'Liveness'
              exec: {
                command: [ 'dotnet', 'auditagent.dll', 'status', '--check', '--max-age', '45' ]
              }
              initialDelaySeconds: 240
              periodSeconds: 240
              failureThreshold: 5
            }
          ]
          volumeMounts: [
            { volumeName: 'data', mountPath: '/data' }
          ]
        }
      ]
      // One replica with SQLite; the PostgreSQL backend allows more.
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
      volumes: [
        { name: 'data', storageType: 'EmptyDir' }
      ]
    }
  }
}

@description('Object id of the managed identity: grant it the Graph application permissions.')
output principalId string = agent.identity.principalId
