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

    /// <summary>The Akka address of this seed; over TLS the DotNetty transport's protocol is akka.ssl.tcp.</summary>
    public string ToAkkaAddress(string systemName, bool tls = false) => $"{(tls ? "akka.ssl.tcp" : "akka.tcp")}://{systemName}@{Host}:{Port}";

    public override string ToString() => $"{Host}:{Port}";
}
