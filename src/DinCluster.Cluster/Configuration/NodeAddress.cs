using System.Globalization;

namespace DinCluster.Cluster.Configuration;

/// <summary>A "host:port" as users write seeds.</summary>
public sealed record NodeAddress(string Host, int Port)
{
    public static NodeAddress Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new FormatException($"seed '{text}' is not host:port with a port in 1..65535");
        return new NodeAddress(text[..colon], port);
    }

    public string ToAkkaAddress(string systemName) => $"akka.tcp://{systemName}@{Host}:{Port}";

    public override string ToString() => $"{Host}:{Port}";
}
