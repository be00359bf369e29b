// The public page where a visitor rates a window visit (一次一评), Chinese
// (Simplified) first; en.ts has the same keys. Kept apart from the staff's
// messages so that the page a citizen opens from an SMS stays small.

const visitRating = {
  visitRating: {
    title: "评价窗口服务",
    intro: "感谢您到窗口办事。请为本次服务评价（一次一评），您的评价将用于改进政务服务。",
    token: "评价码",
    tokenHint: "窗口工作人员提供的评价码，或评价短信链接中的评价码。",
    tokenRequired: "请填写评价码。",
    tokenFromLink: "已从链接读取评价码。",
    grade: "总体评价",
    gradeRequired: "请选择总体评价。",
    indicators: "分项评价（选填）",
    indicator: {
      efficiency: "办事效率",
      competence: "业务能力",
      attitude: "服务态度",
    },
    comment: "评价内容",
    commentHint: "选填，最多 500 字。不满意的评价将由部门核实整改。",
    tooLong: "评价内容不能超过 500 字。",
    submit: "提交评价",
    doneTitle: "感谢您的评价",
    doneBody: "您的评价已提交。",
    doneBad: "您的不满意评价已转交办理部门，部门将在一个工作日内核实并整改。",
    home: "返回办事大厅",
    stores: "查看各旗舰店的评价",
    unknown: {
      title: "评价码无效",
      body: "没有找到这个评价码。请核对后重新输入，或请窗口工作人员重新提供。",
    },
    used: {
      title: "本次办事已经评价过",
      body: "这个评价码已经使用过，每次办事只能评价一次。感谢您的评价。",
    },
    expired: {
      title: "评价码已过期",
      body: "这个评价码已超过有效期，不能再用于评价。如有意见或建议，请联系办事窗口。",
    },
    closed: {
      title: "无法评价",
      body: "这个评价码已经使用过或已过期，不能再用于评价。",
    },
    otherToken: "输入其他评价码",
  },
};

export default visitRating;
export type VisitRatingMessages = typeof visitRating;
