package decode

// ReferenceDecode is the straightforward decoder the fast one must match.
var ReferenceDecode = refDecode
