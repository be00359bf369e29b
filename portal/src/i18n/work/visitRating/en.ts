import type { VisitRatingMessages } from "./zh-CN";

// English: the same keys as zh-CN.ts (the type makes a missing key an error).
const visitRating: VisitRatingMessages = {
  visitRating: {
    title: "Rate your visit to the window",
    intro: "Thank you for your visit. Please rate the service you got at the window; your rating helps improve government services.",
    token: "Rating code",
    tokenHint: "The code the window's staff gave you, or the one in the link of the rating SMS.",
    tokenRequired: "Enter the rating code.",
    tokenFromLink: "The rating code was read from the link.",
    grade: "Overall",
    gradeRequired: "Choose an overall grade.",
    indicators: "Sub-grades (optional)",
    indicator: {
      efficiency: "Efficiency",
      competence: "Competence",
      attitude: "Attitude",
    },
    comment: "Comment",
    commentHint: "Optional, at most 500 characters. A dissatisfied rating is verified and rectified by the department.",
    tooLong: "The comment may have at most 500 characters.",
    submit: "Submit the rating",
    doneTitle: "Thank you for your rating",
    doneBody: "Your rating has been submitted.",
    doneBad: "Your dissatisfied rating went to the department, which verifies it within a working day and rectifies it.",
    home: "Back to the service hall",
    stores: "See the flagship stores' ratings",
    unknown: {
      title: "Unknown rating code",
      body: "No visit has this rating code. Check it and enter it again, or ask the window's staff for it.",
    },
    used: {
      title: "This visit has been rated",
      body: "This rating code has been used: each visit is rated once. Thank you for your rating.",
    },
    expired: {
      title: "The rating code has expired",
      body: "This rating code is past its last day and can no longer be used. For comments or suggestions, please contact the window.",
    },
    closed: {
      title: "This code cannot rate",
      body: "This rating code has been used or has expired.",
    },
    otherToken: "Enter another rating code",
  },
};

export default visitRating;
