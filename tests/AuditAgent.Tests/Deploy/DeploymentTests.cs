using System.Diagnostics;
using System.Text.RegularExpressions;
using AuditAgent.Hosting;
using AuditAgent.Incidents;
using AuditAgent.Notifications;
using AuditAgent.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace AuditAgent.Tests.Deploy;

/// <summary>The deployment files, checked by what can run here: publish, parse, settings that exist, shellcheck.</summary>
public partial class DeploymentTests
{
    private static IReadOnlyDictionary<string, Type> Sections => OptionSections.All;

    /// <summary>AUDITAGENT__NOTIFICATIONS__SMTP__HOST must name a real setting, or the deployment silently ignores it.</summary>
    private static void AssertIsASetting(string variable)
    {
        var parts = variable["AUDITAGENT__".Length..].Split("__");
        Assert.True(Sections.TryGetValue(parts[0], out var type), $"{variable}: no section {parts[0]}");
        foreach (var part in parts[1..].Where(p => !p.All(char.IsDigit)))
        {
            var property = type!.GetProperties().FirstOrDefault(p => p.Name.Equals(part, StringComparison.OrdinalIgnoreCase) && p.CanWrite);
            Assert.True(property is not null, $"{variable}: {type.Name} has no setting {part}");
            type = property!.PropertyType.IsGenericType ? property.PropertyType.GetGenericArguments()[0] : property.PropertyType;
        }
    }

    private static List<YamlMappingNode> Yaml(string relative)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(RepoFiles.Path(relative))));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode At(YamlNode node, params string[] path) =>
        path.Aggregate(node, (n, key) => int.TryParse(key, out var i) ? ((YamlSequenceNode)n).Children[i] : ((YamlMappingNode)n).Children[new YamlScalarNode(key)]);

    [Fact]
    public async Task Dockerfile_PublishStep_Runs()
    {
        var dockerfile = await File.ReadAllTextAsync(RepoFiles.Path("deploy/Dockerfile"));
        var publish = PublishLine().Match(dockerfile);
        Assert.True(publish.Success, "the Dockerfile has no `RUN dotnet publish ... -o /app` step");
        Assert.Contains("USER $APP_UID", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"auditagent.dll\"]", dockerfile, StringComparison.Ordinal);
        using var output = new TempFolder();
        var command = publish.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (code, log, errors) = await RunAsync(command[0], [.. command[1..], "-o", output.Path]);

        Assert.True(code == 0, log + errors);
        Assert.True(File.Exists(Path.Combine(output.Path, "auditagent.dll")));
        Assert.True(File.Exists(Path.Combine(output.Path, "consumer-domains.txt")));
    }

    [Fact]
    public void Compose_HasTheAgentAndPostgres_WithSettingsThatExist()
    {
        var compose = Yaml("deploy/compose.yaml").Single();
        var agent = (YamlMappingNode)At(compose, "services", "agent");
        Assert.Equal("deploy/Dockerfile", ((YamlScalarNode)At(agent, "build", "dockerfile")).Value);
        Assert.Equal("PostgreSql", ((YamlScalarNode)At(agent, "environment", "AUDITAGENT__STORAGE__PROVIDER")).Value);
        Assert.Equal("postgres", ((YamlMappingNode)At(agent, "depends_on")).Children.Keys.OfType<YamlScalarNode>().Single().Value);
        Assert.Equal("postgres:16", ((YamlScalarNode)At(compose, "services", "postgres", "image")).Value);
        foreach (var (name, value) in (YamlMappingNode)At(agent, "environment"))
        {
            AssertIsASetting(((YamlScalarNode)name).Value!);
            Assert.DoesNotContain("Password=", ((YamlScalarNode)value).Value!, StringComparison.OrdinalIgnoreCase); // the password only in a secret file
        }

        Assert.Equal("/run/secrets/postgres-password", ((YamlScalarNode)At(agent, "environment", "AUDITAGENT__STORAGE__PASSWORDFILE")).Value);
        Assert.Contains("postgres-password", ((YamlSequenceNode)At(agent, "secrets")).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Contains("/healthz", string.Join(' ', ((YamlSequenceNode)At(agent, "healthcheck", "test")).Children.Select(c => ((YamlScalarNode)c).Value)), StringComparison.Ordinal);
    }

    private static readonly System.Text.Json.JsonSerializerOptions AsWritten = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The compose file's and the image's health check, run as written against a real console (its port put in for 5080).</summary>
    [Fact]
    public async Task HealthCheck_AsWritten_PassesOnAServingConsoleAndFailsWithoutOne()
    {
        var compose = Yaml("deploy/compose.yaml").Single();
        var test = ((YamlSequenceNode)At(compose, "services", "agent", "healthcheck", "test")).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
        var dockerfile = await File.ReadAllTextAsync(RepoFiles.Path("deploy/Dockerfile"));
        Assert.Equal(["CMD", "bash", "-c"], test[..3]);
        var asJson = System.Text.Json.JsonSerializer.Serialize(test[3], AsWritten);
        Assert.Contains(asJson, dockerfile, StringComparison.Ordinal); // the same command in both
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant);
        await using var site = await ConsoleSite.StartAsync(agent);
        var port = new Uri(site.BaseUrl).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (serving, _, _) = await RunAsync("bash", "-c", test[3].Replace("5080", port, StringComparison.Ordinal));
        await site.DisposeAsync();
        var (stopped, _, _) = await RunAsync("bash", "-c", test[3].Replace("5080", port, StringComparison.Ordinal));

        Assert.Equal((0, true), (serving, stopped != 0));
    }

    [Fact]
    public void KubernetesCluster_RunsReplicasOnPostgreSqlWithTheKeyRingFromASecret_WithSettingsThatExist()
    {
        var documents = Yaml("deploy/kubernetes/auditagent-cluster.yaml");
        Assert.Equal(["Namespace", "ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget"], documents.Select(d => ((YamlScalarNode)At(d, "kind")).Value));
        var deployment = documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "Deployment");
        Assert.True(int.Parse(((YamlScalarNode)At(deployment, "spec", "replicas")).Value!, System.Globalization.CultureInfo.InvariantCulture) > 1);
        var container = At(deployment, "spec", "template", "spec", "containers", "0");
        var config = (YamlMappingNode)At(documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "ConfigMap"), "data");
        var settings = config.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value);
        Assert.Equal("PostgreSql", settings["AUDITAGENT__STORAGE__PROVIDER"]);
        var keyMount = ((YamlSequenceNode)At(container, "volumeMounts")).Children.Single(m => ((YamlScalarNode)At(m, "name")).Value == "keys");
        Assert.StartsWith(((YamlScalarNode)At(keyMount, "mountPath")).Value!, settings["AUDITAGENT__PROTECTION__KEYFILE"], StringComparison.Ordinal);
        Assert.DoesNotContain("Password", settings["AUDITAGENT__STORAGE__CONNECTIONSTRING"], StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith(((YamlScalarNode)At(keyMount, "mountPath")).Value!, settings["AUDITAGENT__STORAGE__PASSWORDFILE"], StringComparison.Ordinal);
        foreach (var name in settings.Keys)
        {
            AssertIsASetting(name);
        }

        var budget = documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "PodDisruptionBudget");
        Assert.Equal("auditagent", ((YamlScalarNode)At(budget, "spec", "selector", "matchLabels", "app")).Value);
    }

    [Theory]
    [InlineData("deploy/kubernetes/auditagent.yaml")]
    [InlineData("deploy/kubernetes/auditagent-cluster.yaml")]
    public void Kubernetes_TheAgentUserCanReadEveryMountedSecret_AndIsProbedOverHttp(string manifest)
    {
        var deployment = Yaml(manifest).Single(d => ((YamlScalarNode)At(d, "kind")).Value == "Deployment");
        var pod = (YamlMappingNode)At(deployment, "spec", "template", "spec");
        var security = (YamlMappingNode)At(pod, "securityContext");
        long? Number(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? long.Parse(((YamlScalarNode)v).Value!, System.Globalization.CultureInfo.InvariantCulture) : null;
        var user = Number(security, "runAsUser");
        var group = Number(security, "fsGroup");
        Assert.NotNull(user);
        foreach (var volume in ((YamlSequenceNode)At(pod, "volumes")).Children.Cast<YamlMappingNode>().Where(v => v.Children.ContainsKey(new YamlScalarNode("secret"))))
        {
            var secret = (YamlMappingNode)At(volume, "secret");
            // A Secret's files are root's; mode 0644 unless defaultMode says otherwise (YAML reads 0440 as octal).
            var text = secret.Children.TryGetValue(new YamlScalarNode("defaultMode"), out var m) ? ((YamlScalarNode)m).Value! : "0644";
            var mode = Convert.ToInt32(text, text.StartsWith('0') ? 8 : 10);
            var readable = user == 0 || (mode & 0b100) != 0 || (group is not null && (mode & 0b100_000) != 0);
            Assert.True(readable, $"{manifest}: user {user} (fsGroup {group?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}) cannot read the secret volume {((YamlScalarNode)At(volume, "name")).Value} (mode {text})");
        }

        var container = At(pod, "containers", "0");
        foreach (var (probe, path) in new[] { ("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz") })
        {
            Assert.Equal(path, ((YamlScalarNode)At(container, probe, "httpGet", "path")).Value);
        }

        // Prometheus scrapes the console's own port, where Telemetry:Prometheus serves /metrics.
        var config = Yaml(manifest).Single(d => ((YamlScalarNode)At(d, "kind")).Value == "ConfigMap");
        Assert.Equal("true", ((YamlScalarNode)At(config, "data", "AUDITAGENT__TELEMETRY__PROMETHEUS")).Value);
        var annotations = At(deployment, "spec", "template", "metadata", "annotations");
        Assert.Equal("/metrics", ((YamlScalarNode)At(annotations, "prometheus.io/path")).Value);
        Assert.Equal(((YamlScalarNode)At(container, "ports", "0", "containerPort")).Value, ((YamlScalarNode)At(annotations, "prometheus.io/port")).Value);
    }

    [Fact]
    public void Kubernetes_UsesWorkloadIdentityAndTheAgentsOwnHealth_WithSettingsThatExist()
    {
        var documents = Yaml("deploy/kubernetes/auditagent.yaml");
        var kinds = documents.Select(d => ((YamlScalarNode)At(d, "kind")).Value).ToList();
        Assert.Equal(["Namespace", "ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Deployment"], kinds);
        var deployment = documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "Deployment");
        var pod = At(deployment, "spec", "template", "spec");
        var container = At(pod, "containers", "0");
        Assert.Equal("true", ((YamlScalarNode)At(deployment, "spec", "template", "metadata", "labels", "azure.workload.identity/use")).Value);
        Assert.Equal("http", ((YamlScalarNode)At(container, "livenessProbe", "httpGet", "port")).Value);
        Assert.Equal("true", ((YamlScalarNode)At(pod, "securityContext", "runAsNonRoot")).Value);
        Assert.NotNull(At(container, "resources", "requests", "memory"));
        var config = documents.Single(d => ((YamlScalarNode)At(d, "kind")).Value == "ConfigMap");
        foreach (var (name, _) in (YamlMappingNode)At(config, "data"))
        {
            AssertIsASetting(((YamlScalarNode)name).Value!);
        }
    }

    [Theory]
    [InlineData("120000000", null, 60.0)] // WatchdogSec=120: a ping a minute
    [InlineData("120000000", "42", 60.0)] // for this process
    [InlineData("120000000", "43", null)] // for another process
    [InlineData(null, null, null)] // no watchdog asked for
    [InlineData("0", null, null)]
    public void SystemdWatchdog_PingsAtHalfTheIntervalSystemdAsksFor(string? usec, string? pid, double? seconds)
    {
        Assert.Equal(seconds, SystemdWatchdog.Interval(usec, pid, 42)?.TotalSeconds);
    }

    [Fact]
    public void SystemdUnit_RunsHardened()
    {
        var unit = File.ReadAllText(RepoFiles.Path("deploy/systemd/auditagent.service"));

        Assert.Contains("ExecStart=/usr/bin/dotnet /opt/auditagent/auditagent.dll run --config /etc/auditagent/appsettings.json", unit, StringComparison.Ordinal);
        foreach (var line in new[] { "User=auditagent", "ProtectSystem=strict", "PrivateTmp=true", "NoNewPrivileges=true", "Restart=on-failure", "Type=notify", "WatchdogSec=120" })
        {
            Assert.Contains(line, unit.Split('\n'));
        }

        foreach (var variable in EnvironmentVariable().Matches(unit).Select(m => m.Groups["name"].Value))
        {
            AssertIsASetting(variable);
        }
    }

    [Fact]
    public void Bicep_ContainerAppWithManagedIdentity_WithSettingsThatExist()
    {
        var bicep = File.ReadAllText(RepoFiles.Path("deploy/azure/containerapp.bicep"));

        Assert.Contains("type: 'UserAssigned'", bicep, StringComparison.Ordinal);
        Assert.Contains("{ name: 'AUDITAGENT__GRAPH__CREDENTIAL', value: 'ManagedIdentity' }", bicep, StringComparison.Ordinal);
        foreach (var variable in BicepVariable().Matches(bicep).Select(m => m.Groups["name"].Value))
        {
            AssertIsASetting(variable);
        }
    }

    /// <summary>Every template, compiled by the real Bicep compiler (the Azure.Bicep.CommandLine.linux-x64 package) without a warning.</summary>
    [Theory]
    [InlineData("deploy/azure/containerapp.bicep")]
    [InlineData("deploy/azure/sentinel.bicep")]
    public async Task Bicep_CompilesWithoutAWarning(string template)
    {
        var (code, json, errors) = await BicepAsync(template);

        Assert.True(code == 0 && errors.Length == 0, errors);
        Assert.Contains("\"$schema\"", json, StringComparison.Ordinal);
    }

    /// <summary>A restart of the container app loses nothing: no data on EmptyDir, PostgreSQL for the database, the key ring in Key Vault, HTTP probes.</summary>
    [Fact]
    public async Task Bicep_ContainerApp_KeepsNothingInTheContainer()
    {
        var (code, json, errors) = await BicepAsync("deploy/azure/containerapp.bicep");
        Assert.True(code == 0, errors);
        var resources = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("resources").EnumerateArray().ToList();
        var types = resources.Select(r => r.GetProperty("type").GetString()).ToList();
        var app = resources.Single(r => r.GetProperty("type").GetString() == "Microsoft.App/containerApps");
        var template = app.GetProperty("properties").GetProperty("template");
        var container = template.GetProperty("containers")[0];
        var env = container.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("value").GetString());

        Assert.DoesNotContain("EmptyDir", json, StringComparison.Ordinal);
        Assert.All(template.GetProperty("volumes").EnumerateArray(), v => Assert.Equal("Secret", v.GetProperty("storageType").GetString()));
        Assert.Contains("Microsoft.DBforPostgreSQL/flexibleServers", types);
        Assert.Contains("Microsoft.KeyVault/vaults", types);
        Assert.Equal("PostgreSql", env["AUDITAGENT__STORAGE__PROVIDER"]);
        Assert.Equal("/run/secrets/postgres-password", env["AUDITAGENT__STORAGE__PASSWORDFILE"]);
        Assert.True(env.ContainsKey("AUDITAGENT__PROTECTION__KEYVAULTURI"));
        Assert.DoesNotContain(env.Keys, k => k == "AUDITAGENT__STORAGE__SQLITEPATH");
        Assert.Equal(["/healthz", "/healthz", "/readyz"], container.GetProperty("probes").EnumerateArray().Select(p => p.GetProperty("httpGet").GetProperty("path").GetString()));
    }

    /// <summary>Runs `bicep build --stdout` from the NuGet package (its execute bit is not kept by NuGet: a copy gets one).</summary>
    private static async Task<(int Code, string Json, string Errors)> BicepAsync(string template)
    {
        var package = typeof(DeploymentTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPackage").Value!;
        using var folder = new TempFolder();
        var bicep = Path.Combine(folder.Path, "bicep");
        File.Copy(Path.Combine(package, "tools", "bicep"), bicep);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(bicep, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        }

        var (code, json, errors) = await RunAsync(bicep, ["build", RepoFiles.Path(template), "--stdout"]);
        return (code, json, errors.Trim());
    }

    /// <summary>Runs a tool from the repository's root to its end: its exit code, and what it printed on each stream.</summary>
    private static async Task<(int Code, string Output, string Errors)> RunAsync(string tool, params IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(tool) { WorkingDirectory = RepoFiles.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }

    [Fact]
    public void Bicep_SentinelTableAndStream_HaveTheColumnsTheSinkSends()
    {
        var bicep = File.ReadAllText(RepoFiles.Path("deploy/azure/sentinel.bicep"));
        var declared = BicepColumn().Matches(bicep).Select(m => (m.Groups["name"].Value, m.Groups["type"].Value)).ToList();

        Assert.Equal(AuditAgent.Events.Sinks.SentinelSink.Columns, declared);
        Assert.Equal(AuditAgent.Simulator.SinkReceivers.LogsColumns.Keys.Order(StringComparer.Ordinal), declared.Select(c => c.Item1).Order(StringComparer.Ordinal));
        Assert.Contains("'3913510d-42f4-4e42-8a64-420c390055eb'", bicep, StringComparison.Ordinal); // Monitoring Metrics Publisher
        Assert.Contains("output sinkRuleId string = rule.properties.immutableId", bicep, StringComparison.Ordinal);
    }

    /// <summary>
    /// The release binaries are compiled ahead of time, runtime included (one ReadyToRun composite image), for every
    /// platform the script publishes: a fresh process then runs compiled code from its first call. Checked on the
    /// project as MSBuild evaluates it for each platform, not by publishing (minutes per platform).
    /// </summary>
    [Fact]
    public async Task PublishScript_EveryReleaseBinaryIsCompiledAheadOfTime()
    {
        var script = await File.ReadAllTextAsync(RepoFiles.Path("deploy/scripts/publish.sh"));
        Assert.Contains("--self-contained true", script, StringComparison.Ordinal);
        var rids = PublishedPlatforms().Match(script).Groups["rids"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["linux-x64", "linux-arm64", "win-x64"], rids);
        foreach (var rid in rids)
        {
            var (code, output, errors) = await RunAsync("dotnet",
                ["msbuild", "src/AuditAgent/AuditAgent.csproj", "-getProperty:PublishReadyToRun", "-getProperty:PublishReadyToRunComposite", $"-p:RuntimeIdentifier={rid}", "-p:SelfContained=true", "-p:Configuration=Release"]);
            Assert.True(code == 0, output + errors);
            using var evaluated = System.Text.Json.JsonDocument.Parse(output);
            var properties = evaluated.RootElement.GetProperty("Properties");
            Assert.True(properties.GetProperty("PublishReadyToRun").GetString() == "true", $"{rid}: not ReadyToRun");
            Assert.True(properties.GetProperty("PublishReadyToRunComposite").GetString() == "true", $"{rid}: not one composite image");
        }
    }

    [SkippableFact]
    public async Task Scripts_PassShellcheck()
    {
        Skip.IfNot(File.Exists("/usr/bin/shellcheck"), "shellcheck is not installed here (.ci/run installs it)");
        var scripts = Directory.GetFiles(RepoFiles.Path("deploy/scripts"), "*.sh").Append(RepoFiles.Path(".ci/run"));
        var (code, output, errors) = await RunAsync("shellcheck", scripts);

        Assert.True(code == 0, output + errors);
    }

    [GeneratedRegex(@"^rids=\((?<rids>[^)]*)\)", RegexOptions.Multiline)]
    private static partial Regex PublishedPlatforms();

    [GeneratedRegex(@"^RUN (?<args>dotnet publish [^\n]*?) -o /app\s*$", RegexOptions.Multiline)]
    private static partial Regex PublishLine();

    [GeneratedRegex(@"Environment=(?<name>AUDITAGENT__[A-Z0-9_]+)=")]
    private static partial Regex EnvironmentVariable();

    [GeneratedRegex(@"\{ name: '(?<name>\w+)', type: '(?<type>\w+)' \}")]
    private static partial Regex BicepColumn();

    [GeneratedRegex(@"name: '(?<name>AUDITAGENT__[A-Z0-9_]+)'")]
    private static partial Regex BicepVariable();
}
