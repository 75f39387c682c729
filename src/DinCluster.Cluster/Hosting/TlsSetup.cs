using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using DinCluster.Cluster.Configuration;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// Mutual TLS for Akka.Remote (DotNetty SSL): the node presents its certificate, requires one from
/// every peer, and accepts a peer only when the peer's certificate chains to the cluster CA of
/// dincluster.tls.ca (a custom trust root: the machine's store is not consulted, so a certificate
/// of a public or another private CA is refused). Hostnames are not checked: nodes reach each
/// other by IP or container name, and the CA is the cluster's own.
/// </summary>
public static class TlsSetup
{
    public static DotNettySslSetup Create(TlsSettings tls)
    {
        X509Certificate2 certificate, ca;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath, tls.Password);
            ca = X509CertificateLoader.LoadCertificateFromFile(tls.CaPath);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"TLS: cannot load {tls.CertificatePath} with its password, or the CA {tls.CaPath}: {e.Message}", e);
        }
        if (!certificate.HasPrivateKey) throw new InvalidOperationException($"TLS: {tls.CertificatePath} holds no private key");
        if (!ChainsTo(certificate, ca, out var why))
            throw new InvalidOperationException($"TLS: this node's own certificate {certificate.Subject} does not chain to the CA {ca.Subject} ({why})");
        return new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false,
            customValidator: (peer, _, remote, errors, log) => Accept(peer, remote, errors, ca, log));
    }

    private static bool Accept(X509Certificate2? peer, string remote, SslPolicyErrors errors, X509Certificate2 ca, ILoggingAdapter log)
    {
        if (peer is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            log.Warning("TLS: {0} presented no certificate; connection refused", remote);
            return false;
        }
        if (ChainsTo(peer, ca, out var why)) return true;
        log.Warning("TLS: certificate {0} of {1} does not chain to the cluster CA {2} ({3}); connection refused", peer.Subject, remote, ca.Subject, why);
        return false;
    }

    /// <summary>True when <paramref name="certificate"/> chains to <paramref name="ca"/> alone (no revocation lists on a private CA).</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 ca, out string why)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var ok = chain.Build(certificate);
        why = ok ? "" : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("untrusted"));
        return ok;
    }
}
