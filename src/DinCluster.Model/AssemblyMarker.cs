namespace DinCluster.Model;
internal static class AssemblyMarker { }
