using AuditAgent.Storage;
using AuditAgent.Tests.Support;

namespace AuditAgent.Tests.Storage;

/// <summary>The PostgreSQL password in a secret file, never in a variable or the settings.</summary>
public sealed class PasswordFileTests
{
    [Fact]
    public void PasswordFile_IsReadIntoTheConnectionString_TrimmedOfItsNewline()
    {
        using var folder = new TempFolder();
        var file = Path.Combine(folder.Path, "postgres-password");
        File.WriteAllText(file, "s3cret;with=odd\n");
        var options = new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = "Host=db;Database=auditagent;Username=auditagent", PasswordFile = file };

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(options.EffectiveConnectionString());

        Assert.Equal(("db", "auditagent", "s3cret;with=odd"), (builder.Host, builder.Username, builder.Password));
        Assert.Equal("PostgreSQL database auditagent on db:5432", new Database(Microsoft.Extensions.Options.Options.Create(options)).Path); // never the password
    }

    [Fact]
    public void PasswordFile_Missing_IsRefusedNamingTheKey()
    {
        var options = new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = "Host=db;Database=auditagent", PasswordFile = "/nonexistent/postgres-password" };

        var result = new StorageProviderValidator().Validate(null, options);

        Assert.Equal(["Storage:PasswordFile names /nonexistent/postgres-password, which does not exist."], result.Failures);
    }
}
