// Microsoft Sentinel / Log Analytics for AuditAgent's event stream (Events:Sinks:Sentinel, docs/events.md):
// the custom table AuditAgentEvents_CL, a data collection endpoint, a data collection rule whose input
// stream has the same columns, and the role that lets the agent's identity send to that rule.
//
//   az deployment group create -g <resource group> -f deploy/azure/sentinel.bicep \
//     -p workspaceName=<Log Analytics workspace with Sentinel> principalId=<the agent's managed identity or app's service principal object id>
//
// The outputs are the three settings of the sink: Endpoint, RuleId and Stream.

@description('The Log Analytics workspace Sentinel runs on (in this resource group).')
param workspaceName string

@description('Object id of the identity the agent signs in with (its managed identity, or the service principal of its app registration).')
param principalId string

@description('ServicePrincipal for a managed identity or an app registration.')
param principalType string = 'ServicePrincipal'

param location string = resourceGroup().location

@description('Days the events are kept in the table.')
param retentionInDays int = 365

var tableName = 'AuditAgentEvents_CL'
var streamName = 'Custom-${tableName}'

// The columns AuditAgent sends (src/AuditAgent/Events/Sinks/SentinelSink.cs, Columns); the table and the stream declare the same.
var columns = [
  { name: 'TimeGenerated', type: 'datetime' }
  { name: 'EventId', type: 'long' }
  { name: 'EventType', type: 'string' }
  { name: 'IncidentId', type: 'long' }
  { name: 'Severity', type: 'string' }
  { name: 'Status', type: 'string' }
  { name: 'Sender', type: 'string' }
  { name: 'Assignee', type: 'string' }
  { name: 'Exposed', type: 'int' }
  { name: 'Personal', type: 'int' }
  { name: 'Domains', type: 'int' }
  { name: 'Messages', type: 'int' }
  { name: 'NotificationDueAt', type: 'datetime' }
  { name: 'Title', type: 'string' }
  { name: 'Link', type: 'string' }
  { name: 'Subject', type: 'string' }
  { name: 'Details', type: 'dynamic' }
  { name: 'SchemaVersion', type: 'int' }
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2022-10-01' existing = {
  name: workspaceName
}

resource table 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: workspace
  name: tableName
  properties: {
    retentionInDays: retentionInDays
    schema: {
      name: tableName
      // The tables API spells datetime as dateTime.
      columns: [for c in columns: { name: c.name, type: c.type == 'datetime' ? 'dateTime' : c.type }]
    }
  }
}

resource endpoint 'Microsoft.Insights/dataCollectionEndpoints@2022-06-01' = {
  name: 'auditagent-events-dce'
  location: location
  properties: {
    networkAcls: { publicNetworkAccess: 'Enabled' }
  }
}

resource rule 'Microsoft.Insights/dataCollectionRules@2022-06-01' = {
  name: 'auditagent-events-dcr'
  location: location
  properties: {
    dataCollectionEndpointId: endpoint.id
    streamDeclarations: {
      '${streamName}': { columns: columns }
    }
    destinations: {
      logAnalytics: [
        { name: 'sentinel', workspaceResourceId: workspace.id }
      ]
    }
    dataFlows: [
      {
        streams: [ streamName ]
        destinations: [ 'sentinel' ]
        transformKql: 'source'
        outputStream: streamName
      }
    ]
  }
  dependsOn: [ table ]
}

// Monitoring Metrics Publisher on the rule: all the agent may do is send rows to it.
var monitoringMetricsPublisher = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '3913510d-42f4-4e42-8a64-420c390055eb')

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(rule.id, principalId, monitoringMetricsPublisher)
  scope: rule
  properties: {
    roleDefinitionId: monitoringMetricsPublisher
    principalId: principalId
    principalType: principalType
  }
}

output sinkEndpoint string = endpoint.properties.logsIngestion.endpoint
output sinkRuleId string = rule.properties.immutableId
output sinkStream string = streamName
