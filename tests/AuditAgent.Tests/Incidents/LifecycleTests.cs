using AuditAgent.Core.Incidents;

namespace AuditAgent.Tests.Incidents;

public class LifecycleTests
{
    [Theory]
    [InlineData(IncidentStatus.New, IncidentAction.Acknowledge, IncidentStatus.Acknowledged)]
    [InlineData(IncidentStatus.New, IncidentAction.StartRemediation, IncidentStatus.Remediating)]
    [InlineData(IncidentStatus.Acknowledged, IncidentAction.StartRemediation, IncidentStatus.Remediating)]
    [InlineData(IncidentStatus.New, IncidentAction.Resolve, IncidentStatus.Resolved)]
    [InlineData(IncidentStatus.Remediating, IncidentAction.Resolve, IncidentStatus.Resolved)]
    [InlineData(IncidentStatus.Acknowledged, IncidentAction.MarkFalsePositive, IncidentStatus.FalsePositive)]
    [InlineData(IncidentStatus.Resolved, IncidentAction.Reopen, IncidentStatus.Acknowledged)]
    [InlineData(IncidentStatus.FalsePositive, IncidentAction.Reopen, IncidentStatus.Acknowledged)]
    public void Apply_AllowedTransition_GivesTheNextStatus(IncidentStatus from, IncidentAction action, IncidentStatus expected)
    {
        Assert.Equal(expected, IncidentLifecycle.Apply(from, action));
    }

    [Theory]
    [InlineData(IncidentStatus.Acknowledged, IncidentAction.Acknowledge, "already acknowledged")]
    [InlineData(IncidentStatus.Resolved, IncidentAction.Resolve, "is resolved; reopen it first")]
    [InlineData(IncidentStatus.FalsePositive, IncidentAction.Acknowledge, "is false-positive; reopen it first")]
    [InlineData(IncidentStatus.New, IncidentAction.Reopen, "only resolved or false-positive incidents can be reopened")]
    [InlineData(IncidentStatus.Remediating, IncidentAction.StartRemediation, "already remediating")]
    public void Apply_InvalidTransition_IsRefusedWithAClearMessage(IncidentStatus from, IncidentAction action, string message)
    {
        var ex = Assert.Throws<InvalidTransitionException>(() => IncidentLifecycle.Apply(from, action));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }
}
