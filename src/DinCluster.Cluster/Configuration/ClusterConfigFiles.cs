using Akka.Configuration;

namespace DinCluster.Cluster.Configuration;

/// <summary>
/// The HOCON files of cluster-config/, embedded in this assembly so every binary finds them.
/// Layering, later wins: reference.conf &lt; deployment overlay &lt; the user's file.
/// </summary>
public static class ClusterConfigFiles
{
    public static Config Load(Deployment deployment, string? userConfigPath = null)
    {
        var config = Parse(OverlayName(deployment)).WithFallback(Parse("reference.conf"));
        if (userConfigPath is null) return config;
        if (!File.Exists(userConfigPath)) throw new FileNotFoundException($"config file {userConfigPath} not found", userConfigPath);
        return ConfigurationFactory.ParseString(File.ReadAllText(userConfigPath)).WithFallback(config);
    }

    /// <summary>The text of one embedded file, e.g. "reference.conf".</summary>
    public static string Text(string fileName)
    {
        using var stream = typeof(ClusterConfigFiles).Assembly.GetManifestResourceStream("cluster-config/" + fileName)
            ?? throw new FileNotFoundException($"cluster-config/{fileName} is not embedded in {typeof(ClusterConfigFiles).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static Config Parse(string fileName) => ConfigurationFactory.ParseString(Text(fileName));

    private static string OverlayName(Deployment deployment) => deployment switch
    {
        Deployment.Simulated => "simulated.conf",
        Deployment.MultiProcess => "multiprocess.conf",
        Deployment.Docker => "docker.conf",
        _ => throw new ArgumentOutOfRangeException(nameof(deployment), deployment, null),
    };
}
