using AuditAgent.Core.Detection;

namespace AuditAgent.Tests.Detection;

public class EmailAddressTests
{
    [Theory]
    [InlineData("Ann.Lee@Fabrikam.COM", "ann.lee@fabrikam.com")]
    [InlineData("  ann@fabrikam.com  ", "ann@fabrikam.com")]
    [InlineData("<ann@fabrikam.com>", "ann@fabrikam.com")]
    [InlineData("SMTP:ann@fabrikam.com", "ann@fabrikam.com")]
    [InlineData("mailto:ann@fabrikam.com", "ann@fabrikam.com")]
    [InlineData("jürgen@bücher.de", "jürgen@xn--bcher-kva.de")]
    [InlineData("ann@fabrikam.com.", "ann@fabrikam.com")]
    public void TryParse_UsableAddress_Normalises(string raw, string expected)
    {
        Assert.True(EmailAddress.TryParse(raw, out var address));
        Assert.Equal(expected, address.Value);
    }

    [Fact]
    public void TryParse_UnicodeAndPunycodeDomain_AreTheSameAddress()
    {
        Assert.True(EmailAddress.TryParse("ann@bücher.de", out var unicode));
        Assert.True(EmailAddress.TryParse("ANN@xn--bcher-kva.de", out var ascii));
        Assert.Equal(unicode, ascii);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("undisclosed-recipients")]
    [InlineData("@fabrikam.com")]
    [InlineData("ann@")]
    [InlineData("ann@localhost")]
    [InlineData("ann lee@fabrikam.com")]
    [InlineData("ann@fab rikam.com")]
    [InlineData("/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc")]
    [InlineData("ann@@fabrikam.com")]
    [InlineData("ann\u0007@fabrikam.com")]
    public void TryParse_NotAnAddress_IsRejected(string? raw)
    {
        Assert.False(EmailAddress.TryParse(raw, out _));
    }
}
