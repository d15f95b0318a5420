using AuditAgent.Graph;

namespace AuditAgent.Tests.Graph;

public class SentItemsReaderTests
{
    [Theory]
    [InlineData("https://graph.microsoft.com/v1.0", "6e5b0f3a-0c1d-4a7e-9f00-1b2c3d4e5f60")]
    [InlineData("http://127.0.0.1:5123/v1.0", "user with spaces/and+signs")]
    public void FirstPageUrl_IsWhatTheSdkSends(string baseUrl, string mailboxId)
    {
        var since = new DateTimeOffset(2026, 10, 31, 12, 0, 0, TimeSpan.FromHours(1));
        var client = GraphClientFactory.Create(new GraphOptions { BaseUrl = baseUrl, AccessToken = "token" });
        var sdk = client.Users[mailboxId].MailFolders["sentitems"].Messages.Delta.ToGetRequestInformation(rc =>
        {
            rc.QueryParameters.Select = SentItemsReader.Properties;
            rc.QueryParameters.Filter = $"receivedDateTime ge {since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";
        });

        // The SDK builds "%24select" and its name-decoding handler sends "$select"; the reader writes that itself.
        var sent = sdk.URI.AbsoluteUri.Replace("?%24", "?$", StringComparison.Ordinal).Replace("&%24", "&$", StringComparison.Ordinal);
        Assert.Contains("&$select=", sent, StringComparison.Ordinal);
        Assert.Equal(sent, new Uri(SentItemsReader.FirstPageUrl(baseUrl, mailboxId, since)).AbsoluteUri);
    }
}
