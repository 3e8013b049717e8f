//! AWS's default message for an S3 error code. s3s raises some errors (a bad bucket
//! name in the path, a signature mismatch, malformed XML, ...) without a message, and
//! boto3 then shows the message as "Unknown". AWS always sends one.
//!
//! The texts are the descriptions in S3's error code list (botocore's S3 model, shape
//! `Error`, member `Code`), for codes with a single description. MalformedXML,
//! MissingRequestBodyError and SignatureDoesNotMatch use the message S3 sends rather
//! than the list's wording about it.

/// The message S3 sends with `code` when nothing more specific applies.
pub fn default_message(code: &str) -> Option<&'static str> {
    let message = match code {
        "AccessDenied" => "Access Denied",
        "AccountProblem" => "There is a problem with your Amazon Web Services account that prevents the action from completing successfully. Contact Amazon Web Services Support for further assistance.",
        "AllAccessDisabled" => "All access to this Amazon S3 resource has been disabled. Contact Amazon Web Services Support for further assistance.",
        "AmbiguousGrantByEmailAddress" => "The email address you provided is associated with more than one account.",
        "AuthorizationHeaderMalformed" => "The authorization header you provided is invalid.",
        "BadDigest" => "The Content-MD5 you specified did not match what we received.",
        "BucketAlreadyExists" => "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        "BucketAlreadyOwnedByYou" => "The bucket you tried to create already exists, and you own it. Amazon S3 returns this error in all Amazon Web Services Regions except in the North Virginia Region. For legacy compatibility, if you re-create an existing bucket that you already own in the North Virginia Region, Amazon S3 returns 200 OK and resets the bucket access control lists (ACLs).",
        "BucketNotEmpty" => "The bucket you tried to delete is not empty.",
        "CredentialsNotSupported" => "This request does not support credentials.",
        "CrossLocationLoggingProhibited" => "Cross-location logging not allowed. Buckets in one geographic location cannot log information to a bucket in another location.",
        "EntityTooLarge" => "Your proposed upload exceeds the maximum allowed object size.",
        "EntityTooSmall" => "Your proposed upload is smaller than the minimum allowed object size.",
        "ExpiredToken" => "The provided token has expired.",
        "IllegalVersioningConfigurationException" => "Indicates that the versioning configuration specified in the request is invalid.",
        "IncompleteBody" => "You did not provide the number of bytes specified by the Content-Length HTTP header",
        "IncorrectNumberOfFilesInPostRequest" => "POST requires exactly one file upload per request.",
        "InlineDataTooLarge" => "Inline data exceeds the maximum allowed size.",
        "InternalError" => "We encountered an internal error. Please try again.",
        "InvalidAccessKeyId" => "The Amazon Web Services access key ID you provided does not exist in our records.",
        "InvalidAddressingHeader" => "You must specify the Anonymous role.",
        "InvalidArgument" => "Invalid Argument",
        "InvalidBucketName" => "The specified bucket is not valid.",
        "InvalidBucketState" => "The request is not valid with the current state of the bucket.",
        "InvalidDigest" => "The Content-MD5 you specified is not valid.",
        "InvalidEncryptionAlgorithmError" => "The encryption request you specified is not valid. The valid value is AES256.",
        "InvalidLocationConstraint" => "The specified location constraint is not valid. For more information about Regions, see How to Select a Region for Your Buckets.",
        "InvalidObjectState" => "The action is not valid for the current state of the object.",
        "InvalidPart" => "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
        "InvalidPartOrder" => "The list of parts was not in ascending order. Parts list must be specified in order by part number.",
        "InvalidPayer" => "All access to this object has been disabled. Please contact Amazon Web Services Support for further assistance.",
        "InvalidPolicyDocument" => "The content of the form does not meet the conditions specified in the policy document.",
        "InvalidRange" => "The requested range cannot be satisfied.",
        "InvalidSOAPRequest" => "The SOAP request body is invalid.",
        "InvalidSecurity" => "The provided security credentials are not valid.",
        "InvalidStorageClass" => "The storage class you specified is not valid.",
        "InvalidTargetBucketForLogging" => "The target bucket for logging does not exist, is not owned by you, or does not have the appropriate grants for the log-delivery group.",
        "InvalidToken" => "The provided token is malformed or otherwise invalid.",
        "InvalidURI" => "Couldn't parse the specified URI.",
        "KeyTooLongError" => "Your key is too long.",
        "MalformedACLError" => "The XML you provided was not well-formed or did not validate against our published schema.",
        "MalformedPOSTRequest" => "The body of your POST request is not well-formed multipart/form-data.",
        "MalformedXML" => "The XML you provided was not well-formed or did not validate against our published schema",
        "MaxMessageLengthExceeded" => "Your request was too big.",
        "MaxPostPreDataLengthExceededError" => "Your POST request fields preceding the upload file were too large.",
        "MetadataTooLarge" => "Your metadata headers exceed the maximum allowed metadata size.",
        "MethodNotAllowed" => "The specified method is not allowed against this resource.",
        "MissingAttachment" => "A SOAP attachment was expected, but none were found.",
        "MissingContentLength" => "You must provide the Content-Length HTTP header.",
        "MissingRequestBodyError" => "Request body is empty.",
        "MissingSecurityElement" => "The SOAP 1.1 request is missing a security element.",
        "MissingSecurityHeader" => "Your request is missing a required header.",
        "NoLoggingStatusForKey" => "There is no such thing as a logging status subresource for a key.",
        "NoSuchBucket" => "The specified bucket does not exist.",
        "NoSuchBucketPolicy" => "The specified bucket does not have a bucket policy.",
        "NoSuchKey" => "The specified key does not exist.",
        "NoSuchLifecycleConfiguration" => "The lifecycle configuration does not exist.",
        "NoSuchUpload" => "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
        "NoSuchVersion" => "Indicates that the version ID specified in the request does not match an existing version.",
        "NotImplemented" => "A header you provided implies functionality that is not implemented.",
        "NotSignedUp" => "Your account is not signed up for the Amazon S3 service. You must sign up before you can use Amazon S3. You can sign up at the following URL: Amazon S3",
        "OperationAborted" => "A conflicting conditional action is currently in progress against this resource. Try again.",
        "PermanentRedirect" => "The bucket you are attempting to access must be addressed using the specified endpoint. Send all future requests to this endpoint.",
        "PreconditionFailed" => "At least one of the preconditions you specified did not hold.",
        "Redirect" => "Temporary redirect.",
        "RequestIsNotMultiPartContent" => "Bucket POST must be of the enclosure-type multipart/form-data.",
        "RequestTimeTooSkewed" => "The difference between the request time and the server's time is too large.",
        "RequestTimeout" => "Your socket connection to the server was not read from or written to within the timeout period.",
        "RequestTorrentOfBucketError" => "Requesting the torrent file of a bucket is not permitted.",
        "RestoreAlreadyInProgress" => "Object restore is already in progress.",
        "ServiceUnavailable" => "Service is unable to handle request.",
        "SignatureDoesNotMatch" => "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        "SlowDown" => "Reduce your request rate.",
        "TemporaryRedirect" => "You are being redirected to the bucket while DNS updates.",
        "TokenRefreshRequired" => "The provided token must be refreshed.",
        "TooManyBuckets" => "You have attempted to create more buckets than allowed.",
        "UnexpectedContent" => "This request does not support content.",
        "UnresolvableGrantByEmailAddress" => "The email address you provided does not match any account on record.",
        "UserKeyMustBeSpecified" => "The bucket POST must contain the specified field name. If it is specified, check the order of the fields.",
        _ => return None,
    };
    Some(message)
}

/// Adds `<Message>` to an S3 error document that has a `<Code>` but no message.
pub fn fill_in_message(resp: &mut http::Response<s3s::Body>) {
    if !(resp.status().is_client_error() || resp.status().is_server_error()) {
        return;
    }
    let Some(bytes) = resp.body().bytes() else { return };
    let Ok(xml) = std::str::from_utf8(&bytes) else { return };
    if xml.contains("<Message>") {
        return;
    }
    let Some(start) = xml.find("<Code>").map(|i| i + "<Code>".len()) else { return };
    let Some(len) = xml[start..].find("</Code>") else { return };
    let Some(message) = default_message(&xml[start..start + len]) else { return };
    let at = start + len + "</Code>".len();
    let xml = format!("{}<Message>{}</Message>{}", &xml[..at], crate::cors::xml_escape(message), &xml[at..]);
    crate::set_body(resp, xml);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, xml: &str) -> http::Response<s3s::Body> {
        let mut r = http::Response::new(s3s::Body::from(xml.to_string()));
        *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
        r
    }

    fn text(r: &http::Response<s3s::Body>) -> String {
        String::from_utf8(r.body().bytes().unwrap().to_vec()).unwrap()
    }

    #[test]
    fn fills_in_a_missing_message() {
        let mut r = error(400, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidBucketName</Code></Error>");
        fill_in_message(&mut r);
        assert_eq!(
            text(&r),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidBucketName</Code><Message>The specified bucket is not valid.</Message></Error>"
        );
        assert_eq!(r.headers()["content-length"], text(&r).len().to_string().as_str());
    }

    #[test]
    fn leaves_messages_successes_and_unknown_codes_alone() {
        let with = "<Error><Code>NoSuchKey</Code><Message>custom</Message></Error>";
        let mut r = error(404, with);
        fill_in_message(&mut r);
        assert_eq!(text(&r), with);
        let mut ok = error(200, "<Error><Code>NoSuchKey</Code></Error>");
        fill_in_message(&mut ok);
        assert_eq!(text(&ok), "<Error><Code>NoSuchKey</Code></Error>");
        let mut odd = error(400, "<Error><Code>SomethingNew</Code></Error>");
        fill_in_message(&mut odd);
        assert_eq!(text(&odd), "<Error><Code>SomethingNew</Code></Error>");
    }

    #[test]
    fn known_texts() {
        assert_eq!(default_message("KeyTooLongError"), Some("Your key is too long."));
        assert_eq!(default_message("InvalidURI"), Some("Couldn't parse the specified URI."));
        assert_eq!(
            default_message("MalformedXML"),
            Some("The XML you provided was not well-formed or did not validate against our published schema")
        );
        assert_eq!(default_message("InvalidRequest"), None);
    }
}
