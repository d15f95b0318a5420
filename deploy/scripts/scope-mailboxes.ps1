<#
.SYNOPSIS
  Limits AuditAgent to some mailboxes with Exchange Online RBAC for Applications, and its Mail.Send
  to the sender mailbox only.

.DESCRIPTION
  Run in Exchange Online PowerShell (Connect-ExchangeOnline) as an Exchange administrator. Afterwards
  remove the tenant-wide Mail.ReadBasic.All and Mail.Send grants from the app in Entra ID: a
  tenant-wide grant still opens every mailbox, whatever the scope says. Keep User.Read.All and
  Domain.Read.All. Check with `auditagent doctor`.

.EXAMPLE
  ./scope-mailboxes.ps1 -AppId 22222222-... -ServicePrincipalObjectId 33333333-... `
      -MailboxGroup "sales-team@contoso.com" -SenderMailbox "auditagent@contoso.com"
#>
param(
    [Parameter(Mandatory)] [string] $AppId,
    # az ad sp show --id <AppId> --query id -o tsv
    [Parameter(Mandatory)] [string] $ServicePrincipalObjectId,
    # A mail-enabled security group whose members are the mailboxes to scan.
    [Parameter(Mandatory)] [string] $MailboxGroup,
    [string] $SenderMailbox
)
$ErrorActionPreference = 'Stop'

if (-not (Get-ServicePrincipal -Identity $AppId -ErrorAction SilentlyContinue)) {
    New-ServicePrincipal -AppId $AppId -ObjectId $ServicePrincipalObjectId -DisplayName 'AuditAgent' | Out-Null
}

$group = Get-DistributionGroup -Identity $MailboxGroup
New-ManagementScope -Name 'AuditAgent scanned mailboxes' `
    -RecipientRestrictionFilter "MemberOfGroup -eq '$($group.DistinguishedName)'" | Out-Null
New-ManagementRoleAssignment -App $AppId -Role 'Application Mail.ReadBasic' `
    -CustomResourceScope 'AuditAgent scanned mailboxes' | Out-Null
Write-Host "Mail.ReadBasic limited to members of $MailboxGroup."

if ($SenderMailbox) {
    New-ManagementScope -Name 'AuditAgent sender' `
        -RecipientRestrictionFilter "PrimarySmtpAddress -eq '$SenderMailbox'" | Out-Null
    New-ManagementRoleAssignment -App $AppId -Role 'Application Mail.Send' `
        -CustomResourceScope 'AuditAgent sender' | Out-Null
    Write-Host "Mail.Send limited to $SenderMailbox."
}

$member = Get-DistributionGroupMember -Identity $MailboxGroup | Select-Object -First 1
if ($member) {
    Test-ServicePrincipalAuthorization -Identity $AppId -Resource $member.PrimarySmtpAddress | Format-Table
}
