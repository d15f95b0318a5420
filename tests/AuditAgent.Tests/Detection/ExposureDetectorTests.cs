using AuditAgent.Core.Detection;

namespace AuditAgent.Tests.Detection;

public class ExposureDetectorTests
{
    private static readonly InternalDomains Contoso = new(["contoso.com", "contoso.co.uk"]);
    private static readonly DetectionRules Rules = new(VisibleExternalThreshold: 10);

    private static List<Recipient> Externals(int count, string domain = "fabrikam.com", int from = 0) =>
        Enumerable.Range(from, count).Select(i => new Recipient($"customer{i}@{domain}", $"Customer {i}")).ToList();

    private static SentMessage Message(IReadOnlyList<Recipient>? to = null, IReadOnlyList<Recipient>? cc = null, IReadOnlyList<Recipient>? bcc = null, Recipient? from = null) =>
        new("mbx-1", "sales@contoso.com", "msg-1", "<m1@contoso.com>", "conv-1", "Price changes", DateTimeOffset.Parse("2026-11-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
            from ?? new Recipient("sales@contoso.com", "Sales"), null, to ?? [], cc ?? [], bcc ?? []);

    [Fact]
    public void Detect_ExactlyThresholdVisibleExternals_IsFinding()
    {
        var result = ExposureDetector.Detect(Message(to: Externals(10)), Contoso, Rules);

        Assert.NotNull(result.Finding);
        Assert.Equal(10, result.Finding.VisibleExternalCount);
        Assert.Equal(1, result.Finding.ExternalDomainCount);
    }

    [Fact]
    public void Detect_OneBelowThreshold_IsNotFinding()
    {
        Assert.Null(ExposureDetector.Detect(Message(to: Externals(9)), Contoso, Rules).Finding);
    }

    [Fact]
    public void Detect_ThresholdIsConfigurable()
    {
        Assert.NotNull(ExposureDetector.Detect(Message(to: Externals(5)), Contoso, new DetectionRules(5)).Finding);
        Assert.Null(ExposureDetector.Detect(Message(to: Externals(10)), Contoso, new DetectionRules(11)).Finding);
    }

    [Fact]
    public void Detect_SameAddressInOtherCaseOrInBothFields_CountsOnce()
    {
        var to = Externals(9).Append(new Recipient("CUSTOMER0@FABRIKAM.COM", null)).ToList();
        var cc = new List<Recipient> { new(" customer1@fabrikam.com ", null) };

        Assert.Null(ExposureDetector.Detect(Message(to: to, cc: cc), Contoso, Rules).Finding);
    }

    [Fact]
    public void Detect_RecipientInToAndCc_IsReportedAsTo()
    {
        var to = Externals(10);
        var cc = new List<Recipient> { new("customer3@fabrikam.com", "Cc copy") };

        var finding = ExposureDetector.Detect(Message(to: to, cc: cc), Contoso, Rules).Finding!;

        Assert.Equal(RecipientField.To, finding.VisibleExternal.Single(r => r.Address == "customer3@fabrikam.com").Field);
    }

    [Fact]
    public void Detect_CcCountsAsVisible()
    {
        var finding = ExposureDetector.Detect(Message(to: Externals(4), cc: Externals(6, from: 100)), Contoso, Rules).Finding;

        Assert.NotNull(finding);
        Assert.Equal(6, finding.VisibleExternal.Count(r => r.Field == RecipientField.Cc));
    }

    [Fact]
    public void Detect_BccNeverCountsAsVisible_ButIsCounted()
    {
        var result = ExposureDetector.Detect(Message(to: [new Recipient("sales@contoso.com", null)], bcc: Externals(200)), Contoso, Rules);

        Assert.Null(result.Finding);
        var withVisible = ExposureDetector.Detect(Message(to: Externals(10), bcc: Externals(7, from: 500)), Contoso, Rules).Finding!;
        Assert.Equal(7, withVisible.BccCount);
        Assert.Equal(10, withVisible.VisibleExternalCount);
    }

    [Fact]
    public void Detect_SendersOwnAddress_IsNotExternal()
    {
        var from = new Recipient("ann@partner-agency.com", "Ann (agency, sending for us)");
        var to = Externals(9).Append(new Recipient("ANN@partner-agency.com", null)).ToList();

        Assert.Null(ExposureDetector.Detect(Message(to: to, from: from), Contoso, Rules).Finding);
    }

    [Theory]
    [InlineData("contoso.com")]
    [InlineData("eu.contoso.com")]
    [InlineData("mail.eu.contoso.com")]
    [InlineData("CONTOSO.CO.UK")]
    public void Detect_InternalDomainsAndTheirSubdomains_AreNotExternal(string domain)
    {
        Assert.Null(ExposureDetector.Detect(Message(to: Externals(30, domain)), Contoso, Rules).Finding);
    }

    [Fact]
    public void Detect_LookalikeDomain_IsExternal()
    {
        // notcontoso.com ends with "contoso.com" but is not a subdomain of it.
        Assert.NotNull(ExposureDetector.Detect(Message(to: Externals(10, "notcontoso.com")), Contoso, Rules).Finding);
    }

    [Fact]
    public void Detect_IdnInternalDomain_MatchesPunycodeRecipients()
    {
        var internalDomains = new InternalDomains(["bücher.de"]);

        Assert.Null(ExposureDetector.Detect(Message(to: Externals(12, "xn--bcher-kva.de")), internalDomains, Rules).Finding);
    }

    [Fact]
    public void Detect_RecipientsWithoutUsableAddress_AreCountedAndIgnored()
    {
        var to = Externals(9).Concat([
            new Recipient(null, "Sales team"),
            new Recipient("", null),
            new Recipient("not-an-address", null),
            new Recipient("/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=x", "Old contact"),
        ]).ToList();

        var result = ExposureDetector.Detect(Message(to: to, bcc: [new Recipient("@", null)]), Contoso, Rules);

        Assert.Null(result.Finding);
        Assert.Equal(5, result.UnresolvableRecipients);
    }

    [Fact]
    public void Detect_Finding_CarriesMessageFactsAndDistinctDomains()
    {
        var to = Externals(6, "fabrikam.com").Concat(Externals(3, "gmail.com", 50)).Append(new Recipient("x@adatum.com", null)).ToList();

        var finding = ExposureDetector.Detect(Message(to: to), Contoso, Rules).Finding!;

        Assert.Equal("mbx-1", finding.MailboxId);
        Assert.Equal("msg-1", finding.GraphMessageId);
        Assert.Equal("<m1@contoso.com>", finding.InternetMessageId);
        Assert.Equal("conv-1", finding.ConversationId);
        Assert.Equal("Price changes", finding.Subject);
        Assert.Equal("sales@contoso.com", finding.SenderAddress);
        Assert.Equal(3, finding.ExternalDomainCount);
        Assert.Equal(10, finding.VisibleExternal.Count);
    }

    [Fact]
    public void Detect_NoRecipientsAtAll_IsNotFinding()
    {
        Assert.Equal(new DetectionResult(null, 0), ExposureDetector.Detect(Message(), Contoso, Rules));
    }

    [Theory]
    [InlineData("sales@contoso.com", "sales@contoso.com", "sales@contoso.com", "sales@contoso.com", null)] // the owner's own mail
    [InlineData("bob@contoso.com", "events@contoso.com", "bob@contoso.com", "bob@contoso.com", "events@contoso.com")] // on behalf, copy in the delegate's mailbox
    [InlineData("events@contoso.com", "events@contoso.com", "bob@contoso.com", "bob@contoso.com", "events@contoso.com")] // on behalf, copy in the shared mailbox
    [InlineData("bob@contoso.com", "events@contoso.com", "events@contoso.com", "bob@contoso.com", "events@contoso.com")] // send-as, copy in the delegate's mailbox
    [InlineData("events@contoso.com", "events@contoso.com", "events@contoso.com", "events@contoso.com", null)] // send-as, the shared mailbox's own copy: nobody else is named
    public void Attribution_NamesThePersonAndTheAddressItWentOutAs(string mailbox, string from, string sender, string person, string? sentAs)
    {
        var message = new SentMessage("mbx", mailbox, "m", null, null, "x", null, new Recipient(from, null), new Recipient(sender, null), Externals(10), [], []);

        var finding = ExposureDetector.Detect(message, Contoso, Rules).Finding!;

        Assert.Equal((person, sentAs), (finding.SenderAddress, finding.SentAs));
    }

    [Fact]
    public void Counts_EveryMessage_WithoutAddresses()
    {
        var to = Externals(4).Append(new Recipient("colleague@contoso.com", null)).Append(new Recipient("CUSTOMER0@fabrikam.com", null)).ToList();
        var bcc = Externals(3, "adatum.com").Append(new Recipient("customer1@fabrikam.com", null)).Append(new Recipient("boss@contoso.com", null)).ToList();

        var result = ExposureDetector.Detect(Message(to: to, bcc: bcc), Contoso, Rules);

        Assert.Null(result.Finding);
        // visible external 4; external 4 + 3 in Bcc (one Bcc is also in To); all 5 visible + 4 new in Bcc; 2 external domains; 5 in Bcc
        Assert.Equal(new MessageCounts(VisibleExternal: 4, External: 7, All: 9, ExternalDomains: 2, Bcc: 5), result.Counts);
    }
}
