using AuditAgent.Core.Detection;
using AuditAgent.Graph;
using AuditAgent.Scanning;

namespace AuditAgent.Tests.Scanning;

/// <summary>The made-up page a scan compiles its page path with, while it reads the directory.</summary>
public sealed class PageWarmUpTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(50)]
    public void MadeUpPage_TakesEveryPathARealPageCan_CountedAndReadWhole(int threshold)
    {
        var mailbox = new Mailbox("warm-up", "sender@warm-up.invalid", "Warm-up");
        var now = DateTimeOffset.UtcNow;
        var page = SentItemsReader.Parse(mailbox, PageWork.MadeUpPage(threshold, now.AddHours(-1)), now,
            new MessageScreen(new InternalDomains(["warm-up.invalid"]), new DetectionRules(threshold)));

        Assert.Equal((0, 1, true), (page.Malformed, page.Removed, page.RoundComplete));
        Assert.Collection(
            page.Messages,
            internalOnly => Assert.Equal((false, false, 0), (internalOnly.Message is not null, internalOnly.Bcc is not null, internalOnly.Counts.External)),
            finding => Assert.Equal((true, threshold + 1), (finding.Message is not null, finding.Message?.To.Count + finding.Message?.Cc.Count)),
            counted => Assert.Equal((false, threshold + 1), (counted.Message is not null, counted.Bcc?.Count)),
            readWhole => Assert.Equal((true, threshold + 2), (readWhole.Message is not null, readWhole.Message?.Bcc.Count)));
    }

    [Fact]
    public void WarmUp_GivesAFindingWithSealedRecipients_TwoBccMailings_AndACountRowPerMessage()
    {
        var work = PageWork.WarmUp(new DetectionRules(10), new DetectionOptions().LoadSensitivity());

        var finding = Assert.Single(work.Findings);
        Assert.Equal(11, finding.Recipients.Count);
        // Stored as the scan stores them: a keyed hash at the domain, and the address and name sealed under a key.
        Assert.All(finding.Recipients, r => Assert.Equal(("example.org", true, true), (r.Domain, r.Key.EndsWith("@example.org", StringComparison.Ordinal), AuditAgent.Protection.KeyRing.KeyIdOf(r.Sealed) is not null)));
        Assert.Equal(11, finding.Recipients.Select(r => r.Key).Distinct(StringComparer.Ordinal).Count());
        Assert.Contains(finding.Finding.Sensitive, s => s.Category == SensitiveCategory.Children);
        Assert.Equal([11, 12], work.BccMessages.Select(b => b.RecipientKeys.Split('\n').Length).Order());
        Assert.Equal((4, 0), (work.Counts.Count, work.Conflicting));
    }
}
